// Numbers, money and times the Indonesian way: Rp1.234.567, 12,5%, 5 Jan 2021 10.00.
const whole = new Intl.NumberFormat("id-ID");
const share = new Intl.NumberFormat("id-ID", { style: "percent", maximumFractionDigits: 1 });
const moment = new Intl.DateTimeFormat("id-ID", { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Jakarta" });
const day = new Intl.DateTimeFormat("id-ID", { dateStyle: "medium", timeZone: "Asia/Jakarta" });

export const number = (value) => whole.format(value ?? 0);
export const rupiah = (value) => `Rp${whole.format(value ?? 0)}`;
export const percent = (part, total) => (total ? share.format(part / total) : "–");
export const dateTime = (iso) => (iso ? moment.format(new Date(iso)) : "–");
export const date = (iso) => (iso ? day.format(new Date(iso.length === 10 ? `${iso}T00:00:00+07:00` : iso)) : "–");

// Text for the page built with the DOM, never with innerHTML: names and titles come from others.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === undefined || value === null) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined).map((child) => (child instanceof Node ? child : String(child))));
  return node;
}

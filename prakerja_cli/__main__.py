from prakerja_cli.main import run

run()

"""Deployment: packaging the stack for AWS (`make package`)."""

"""Allow ``python -m sms_audit``."""

from sms_audit.cli import main

main()

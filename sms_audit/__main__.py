"""Allow ``python -m sms_audit``."""

from sms_audit.cli import main

if __name__ == "__main__":  # not when imported (a multiprocessing child imports the main module)
    main()

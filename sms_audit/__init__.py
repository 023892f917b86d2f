"""sms-audit: find the senders that kept messaging after you unsubscribed."""

__version__ = "0.1.0"

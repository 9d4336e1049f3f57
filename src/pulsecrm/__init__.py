"""PulseCRM: a medical-marketing CRM whose privacy rules are enforced by the kernel."""

__version__ = "0.1.0"

"""Bailanys: a telephony contact-centre engine (SIP, IVR, queues, KPIs)."""

__version__ = "0.1.0"

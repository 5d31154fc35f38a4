"""Transfers (issue 19): named targets (``[transfers]``) and SIP REFER's Refer-To read
down to one of them. Pure: the engine's adapter is :mod:`bailanys.engine.transfers`."""

"""The operators' desktop (issue 19): settings, websocket protocol, hub, service, routes."""

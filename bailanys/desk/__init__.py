"""The operators' desktop (issue 19): settings, the screen pop and the caller's
history, the websocket protocol, the hub, the service and the routes, the knowledge
base."""

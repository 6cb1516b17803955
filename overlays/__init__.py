"""What viewers and overlays see: the socket protocol, the bus and the pages."""

"""The demo relying service that `broker demo` runs beside the broker."""

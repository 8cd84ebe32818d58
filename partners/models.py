"""Resource, booking and pledge models arrive with the partners issue."""

"""Ratings and feedback models arrive with the public feedback issue."""

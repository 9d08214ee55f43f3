"""Curators keep the catalogue true: the review queue and the editorial tools."""

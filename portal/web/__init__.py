"""Page machinery shared by every domain: templates, languages, assets, headers, error pages."""

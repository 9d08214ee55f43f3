"""What readers tell us about a page or about Mlango: usefulness, problems, messages."""

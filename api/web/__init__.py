"""The web page: server-rendered HTML, forms, feeds and briefings over the search core."""

"""The web desk's pages, one module per area; ``common`` holds what every page shares."""

"""The developer's pages: overview, contracts and payment notices, release applications."""

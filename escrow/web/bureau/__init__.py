"""The housing bureau's pages: dashboard and alerts, projects, nodes, releases, refunds, suspense, what-if."""

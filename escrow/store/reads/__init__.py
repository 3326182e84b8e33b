"""Read models: the batch queries behind pages, reports, alerts and the what-if. Each reads what a view
needs in a fixed number of queries — never one per row — and writes nothing."""

"""Repositories, one module per aggregate: the writes and look-ups of the services. Each takes the unit of
work's session; `escrow.store.db.UnitOfWork` makes one of each under a fixed name (`uow.projects`,
`uow.journal`, …). Read models for pages, reports, alerts and the what-if live beside them in `reads/`."""

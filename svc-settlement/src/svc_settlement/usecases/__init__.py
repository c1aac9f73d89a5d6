"""Settlement use cases, one module per feature: each takes (uow, actor, ...) and runs in one transaction
(load → domain → save → outbox); the caller commits, through UnitOfWork.run."""

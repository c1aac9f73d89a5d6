"""The use cases, one module per feature: one transaction each (load, decide in the domain, save, emit).

HTTP routes, event handlers and periodic jobs all call these; none of them holds SQL."""

"""The show: rundown, products, commands, the engine, the journal and auth."""

"""Pure rules of the product: no I/O, no database, no codec; plain data in, plain data out."""

"""Lost pets: a resident asks nearby camera owners, and each owner alone decides to share."""

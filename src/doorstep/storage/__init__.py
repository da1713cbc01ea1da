"""Everything that persists: SQL models and repositories, migrations, blobs and their encryption."""

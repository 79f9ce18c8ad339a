"""Lightning modules, one per task family: many-to-one, one-to-many, many-to-many, seq2seq."""

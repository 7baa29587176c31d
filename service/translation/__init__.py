"""Machine translation of what people write, so everyone reads it in their own language."""

"""The scheduling engine: pure Python, no Django import. Dataclasses in, plan out."""

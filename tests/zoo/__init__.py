"""A zoo of deliberately broken servers: the reference server with exactly one defect each."""

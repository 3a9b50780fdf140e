"""Side commands around the pipeline: `import`, `inspect` and `new`."""

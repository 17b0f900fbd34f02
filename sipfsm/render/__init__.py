"""Pictures from the data: Graphviz diagrams of every model, drawn from the model files alone."""

"""Project tools that are not part of the sipfsm package (run from the project root)."""

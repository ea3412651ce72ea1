"""What is neither a rule nor a type: photo files, the storage ledger."""

"""Training the learned reader (qa/reader): dev sets -> examples -> fitted weights, a model card, figures."""

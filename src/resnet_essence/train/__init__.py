"""Training: the trainer and its one epoch loop, several seeds packed into one net, and the job that
trains a grid cell and writes its files.
"""

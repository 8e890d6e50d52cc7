"""The networks: plain, residual and pre-activation ResNets, bottleneck nets, their depths, and the
packed form that trains several seeds as one net.
"""

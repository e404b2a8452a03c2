"""Ground-truth data sets of disentanglement_ext (`procedural`: offline mpi3d_toy stand-in)."""

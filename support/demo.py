def support_phase(ctx):
    pass

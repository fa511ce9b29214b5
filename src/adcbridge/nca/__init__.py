"""Non-compartmental analysis (NCA) for ADC studies: profiles, lambda_z, AUCs, CDISC parameters, statistics."""

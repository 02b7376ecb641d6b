# Variable values, as terraform plan reads them.
sre_delay = 15

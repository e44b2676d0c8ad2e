{#- Loss ledger with types normalised, codes mapped and the override layers (spec §4). -#}
{{ ledger_cleaned(ref('stg_annual_loss__loss_ledger'), ref('int_loss_ledger_names'), '流失日期') }}

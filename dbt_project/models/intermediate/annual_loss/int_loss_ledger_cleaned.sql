{#- Loss ledger with types normalised, codes mapped and the override layers (spec §4). -#}
{{ ledger_cleaned(ref('stg_ledger__loss'), ref('int_loss_ledger_names'), '流失日期') }}

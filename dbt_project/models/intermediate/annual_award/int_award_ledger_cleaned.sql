{#- Award ledger with types normalised, codes mapped and the override layers (spec §3.2). -#}
{{ ledger_cleaned(ref('stg_annual_award__award_ledger'), ref('int_award_ledger_names'), '中标日期') }}

{#- Distinct 上报客户名称 of the loss ledger and their normalised form (spec §0.6). -#}
{{ distinct_names_normalised(ref('stg_annual_loss__loss_ledger'), '上报客户名称') }}

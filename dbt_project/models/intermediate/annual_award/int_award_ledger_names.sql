{#- Distinct 上报客户名称 of the award ledger and their normalised form (spec §0.6). -#}
{{ distinct_names_normalised(ref('stg_annual_award__award_ledger'), '上报客户名称') }}

{#- The verdict on every loss-ledger row; its data tests gate customer.流失客户明细. -#}
{{ ledger_resolved(ref('int_loss_ledger_cleaned'), ref('stg_annual_loss__company_resolution'), '流失日期') }}

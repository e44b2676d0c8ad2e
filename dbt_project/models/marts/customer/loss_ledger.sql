{#- customer.流失客户明细: the ledger rows that survived cleaning, published by delete+insert of
    (上报月份, 业务类型) — the ledger sheets carry their whole history, so every month
    present in the file is replaced. -#}
{{
    config(
        alias='流失客户明细',
        schema='customer',
        incremental_strategy=publish_strategy(),
        unique_key=['上报月份', '业务类型'],
        on_schema_change='append_new_columns',
        meta={'identity_column': 'id'},
        indexes=[
            {'columns': ['上报月份']},
            {'columns': ['业务类型']},
            {'columns': ['company_id']},
            {'columns': ['年金计划号']},
        ],
    )
}}
{{ ledger_mart(ref('int_loss_ledger_company_resolved'), '流失日期') }}

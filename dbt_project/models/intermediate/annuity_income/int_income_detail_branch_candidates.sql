{#- fk_organization (enrichment.md §4.3): one candidate row of mapping.组织架构 per branch
    code of the rows about to be published, 机构 from 机构名称 (decision D20: the
    original's asset-scale back-fill always wrote NULL there, a defect). -#}

with

published as (

    select * from {{ ref('int_income_detail_company_resolved') }}
    where {{ is_published() }}

),

branches as (

    select
        "机构代码",
        {{ backfill_first('"机构名称"') }} as "机构"
    from published
    where nullif(btrim("机构代码"), '') is not null
    group by "机构代码"

)

select * from branches

{#- The candidate rows of the back-fills whose rule is the same in several domains
    (enrichment.md §4.3); each domain's candidate model calls its macro with the domain's
    verdict model. The rows read are those about to be published. -#}

{#- fk_portfolio: mapping.组合计划 per portfolio code (after the plans it names). -#}
{% macro portfolio_candidates(verdict) -%}
with

published as (

    {{ published_rows(verdict) }}

),

portfolios as (

    select
        "组合代码",
        {{ backfill_first('"计划代码"') }} as "年金计划号",
        {{ backfill_first('"组合名称"') }} as "组合名称",
        {{ backfill_first('"组合类型"') }} as "组合类型"
    from published
    where nullif(btrim("组合代码"), '') is not null
    group by "组合代码"

)

select * from portfolios
{%- endmacro %}

{#- fk_product_line: mapping.产品线 per product-line code, named by its 业务类型. -#}
{% macro product_line_candidates(verdict) -%}
with

published as (

    {{ published_rows(verdict) }}

),

product_lines as (

    select
        "产品线代码",
        {{ backfill_first('"业务类型"') }} as "产品线"
    from published
    where nullif(btrim("产品线代码"), '') is not null
    group by "产品线代码"

)

select * from product_lines
{%- endmacro %}

{#- fk_organization: mapping.组织架构 per branch code, 机构 from 机构名称 (decision D20:
    the original's always-NULL column in annuity_performance was a defect). -#}
{% macro branch_candidates(verdict) -%}
with

published as (

    {{ published_rows(verdict) }}

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
{%- endmacro %}

{#- fk_customer of the award and loss ledgers: customer.客户明细 per real company_id,
    weighted by 计划规模, plan columns from 年金计划号; the tag `YYMM中标` / `YYMM流失` of
    the first 上报月份 is merged into an existing customer's tags (decision D20). -#}
{% macro ledger_customer_candidates(verdict, event, customer_type) -%}
with

published as (

    {{ published_rows(verdict) }}

),

customers as (

    select
        company_id,
        {{ backfill_first('"客户名称"') }} as "客户名称",
        {{ backfill_max_by('"机构代码"', '"计划规模"') }} as "主拓机构代码",
        {{ backfill_max_by('"机构名称"', '"计划规模"') }} as "主拓机构",
        {{ backfill_concat_distinct('"业务类型"', '+') }} as "管理资格",
        {{ backfill_concat_distinct('"计划类型"', '/') }} as "年金计划类型",
        {{ backfill_max_by('"年金计划号"', '"计划规模"') }} as "关键年金计划",
        {{ backfill_concat_distinct('"年金计划号"', ',') }} as "其他年金计划",
        {{ backfill_count_distinct('"年金计划号"') }} as "关联计划数",
        {{ backfill_count_distinct('"机构名称"') }} as "关联机构数",
        {{ backfill_concat_distinct('"机构名称"', ',') }} as "其他开拓机构",
        jsonb_build_array({{ backfill_first("to_char(\"上报月份\", 'YYMM')") }} || '{{ event }}') as tags,
        '{{ customer_type }}' as "年金客户类型"
    from published
    where company_id is not null and company_id not like 'IN%'
    group by company_id

)

select * from customers
{%- endmacro %}

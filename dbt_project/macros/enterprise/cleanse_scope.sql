{#- What a cleansing model (models/marts/enterprise) takes from the staging rows in
    `relation`: the companies with a payload (`payload_column` not NULL) and — unless
    WDH_CLEANSE_FULL_REFRESH is true (`wdh cleanse --full-refresh`) — no rows in the
    model's table yet; at most WDH_CLEANSE_LIMIT of them (`--limit`), by company_id.
    `dbt run` never creates the table itself: migrate_identity_tables does, with its `id`,
    defaults and foreign key, so a missing table is an error here. -#}
{% macro select_companies_to_cleanse(relation, payload_column) -%}
    {%- set limit = env_var('WDH_CLEANSE_LIMIT', '') | trim -%}
    {%- if limit and not limit.isdigit() -%}
        {{ exceptions.raise_compiler_error('WDH_CLEANSE_LIMIT must be a whole number, not ' ~ limit) }}
    {%- endif -%}
    {%- if execute and model.resource_type == 'model' and flags.WHICH in ('run', 'build')
        and load_relation(this) is none -%}
        {{ exceptions.raise_compiler_error(
            this ~ ' does not exist: create it with `wdh dbt run-operation migrate_identity_tables`'
            ~ ' (`wdh cleanse` does)') }}
    {%- endif -%}
    select *
    from {{ relation }}
    where {{ relation }}.{{ payload_column }} is not null
    {%- if is_incremental() and not cleanse_full_refresh() %}
        and not exists (
            select 1
            from {{ this }} as cleansed
            where cleansed.company_id = {{ relation }}.company_id
        )
    {%- endif %}
    {%- if limit | int > 0 %}
    order by {{ relation }}.company_id
    limit {{ limit | int }}
    {%- endif %}
{%- endmacro %}

{#- WDH_CLEANSE_FULL_REFRESH (`wdh cleanse --full-refresh`): re-cleanse every company. -#}
{% macro cleanse_full_refresh() -%}
    {{ return(env_var('WDH_CLEANSE_FULL_REFRESH', 'false') | trim | lower in ('true', '1', 'yes')) }}
{%- endmacro %}

{#- _cleansing_status of a cleansed row: {"status": "cleansed"} when every typed field
    parsed, else {"status": "partial", "failed": {"<column>": "<text as delivered>", …}}
    naming each field whose text was neither unstated nor readable (its column is NULL).
    Expects `<column>__text` (the delivered text) beside each parsed `<column>`. -#}
{% macro cleansing_status(columns) -%}
    (select
        case
            when failures.failed_fields = '{}'::jsonb then jsonb_build_object('status', 'cleansed')
            else jsonb_build_object('status', 'partial', 'failed', failures.failed_fields)
        end::json
     from (
        select jsonb_strip_nulls(jsonb_build_object(
            {%- for column in columns %}
            '{{ column }}',
            case
                when {{ column }} is null and not {{ is_unstated(column ~ '__text') }} then {{ column }}__text
            end{{ "," if not loop.last }}
            {%- endfor %}
        )) as failed_fields
     ) as failures)
{%- endmacro %}

/* SPDX-License-Identifier: MIT */
/*
 * members.h: an organization's members (组织用户) and invitations. Only an
 * Org Admin manages members; every org keeps at least one Org Admin, which
 * is checked inside the transaction that would break the rule.
 *
 *   GET    /api/orgs/{org}/members            200 {"members":[{user_id,email,role,joined_at}],
 *                                             "invitations":[{id,email,role,expires_at,link}] (admins)
 *                                             | null,"my_role"}
 *   POST   /api/orgs/{org}/invitations {email,role}
 *                                             201 {"invitation":{id,email,role,expires_at,link}};
 *                                             403 not an Org Admin; 409 already_member
 *   DELETE /api/orgs/{org}/invitations/{id}   200 {}; 403; 404 not pending
 *   PUT    /api/orgs/{org}/members/{user} {role}  200 {}; 403; 404; 409 last_admin
 *   DELETE /api/orgs/{org}/members/{user}     200 {}; 403; 404; 409 last_admin
 *   GET    /api/invitations                   200 {"invitations":[...]} for the signed-in email
 *   GET    /api/invitations/{id}              200 {"invitation":{...}}; 403 invitation_other_email;
 *                                             404; 410 invitation_invalid
 *   POST   /api/invitations/{id}/accept       200 {"org":{id,name,role}}; 403 invitation_other_email;
 *                                             404; 409 already_member; 410 invitation_invalid
 *   POST   /api/invitations/{id}/decline      200 {}; same errors
 *
 * Every org route answers 404 to a user who is not a member.
 */
#ifndef MPBIND_MEMBERS_H
#define MPBIND_MEMBERS_H

#include "router.h"

extern const struct route_table members_route_table;

#endif
